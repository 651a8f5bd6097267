"""Telling earners: email messages and their delivery."""
