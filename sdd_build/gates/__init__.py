"""gates: approvals bound to content hashes, and the checks that enforce them."""
