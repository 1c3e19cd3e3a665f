"""Privacy by design: what the portal holds about a person, how they see, export and
delete it, how long anything personal is kept, and the privacy notice."""
