"""Pure rules, functions of data with no I/O: periods and statuses, alert selection, the bilan's figures."""
