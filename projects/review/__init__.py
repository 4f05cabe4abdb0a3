"""Review: comments and drawings on takes, decisions, activity, notifications and the inbox, guest links."""
