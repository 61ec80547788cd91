"""Data files of policykg (ontology/); read through policykg.resources."""
