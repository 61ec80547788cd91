"""Data files of policykg (queries/); read through policykg.resources."""
