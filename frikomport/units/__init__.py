"""Units (enhet/avdeling) of an organisation, their members and their leaders."""
