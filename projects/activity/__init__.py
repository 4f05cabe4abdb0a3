"""The studio's record and its bell: the activity feed of each project, and the notifications each
member receives (inbox, live bell, email).

Every domain writes here — storyboard edits, consent, takes booked and settled, spend alerts,
model retirements, review decisions — so this package sits under all of them: it imports models,
the live channel and input checks, and no domain (import-linter keeps it so)."""
