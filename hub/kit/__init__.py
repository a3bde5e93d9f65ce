"""The integrator kit: tools for people adding a system (scaffold), not part of the running hub."""
