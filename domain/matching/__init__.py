"""Pure company matching: are two customer records the same company, and why."""
