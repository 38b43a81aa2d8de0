"""execute stage: the governed build on devices (Nornir, NAPALM), journal, evidence."""
