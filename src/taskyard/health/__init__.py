"""Liveness, readiness and the plain health check the original clients call."""
