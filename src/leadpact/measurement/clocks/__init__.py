"""SLA clocks: per open lead and clocked commitment, when it started, when it is due, whether it breached."""
