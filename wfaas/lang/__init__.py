"""The workflow language v2: YAML text to typed, validated specs."""
