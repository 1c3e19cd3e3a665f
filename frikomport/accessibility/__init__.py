"""Universal design (universell utforming): the accessibility statement of the portal."""
