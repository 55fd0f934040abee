"""Advisories generated from a case, never written by hand: CSAF 2.0 advisory and VEX, OSV
records, CVE 5 CNA containers, their validators and the CSAF provider directory. Pure Python:
nothing here touches the database (the snapshot is built by clearinghouse.selectors_snapshot)."""
