"""Network definitions (torch). Weights live in ``engines/weights``."""
