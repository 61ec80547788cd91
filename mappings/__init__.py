"""Data files of policykg (mappings/); read through policykg.resources."""
