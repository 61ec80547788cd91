"""Data files of policykg (shapes/); read through policykg.resources."""
