"""The accountability map: per person, the commitments they own and the ones their work depends on."""
