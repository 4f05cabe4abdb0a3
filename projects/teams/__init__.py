"""Teams: creating one, members and invitations, roles, budgets, signing in and the account page."""
