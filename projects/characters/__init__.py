"""Characters: the cast a team keeps, their reference images, and the consent each likeness carries."""
