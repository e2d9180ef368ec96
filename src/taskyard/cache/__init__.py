"""The response cache for task reads: per caller, invalidated by every write that matters."""
