"""The scorecard: every commitment × period × subject measured, with target, pace, status and evidence."""
