"""policykg: Chinese government policy plans as a knowledge graph.

The pipeline runs one way, each stage a typed function:

    read_source(path=...)  -> SourceDocument   (policykg.source)
    read_text(source)      -> Text             (policykg.loaders, one registry of readers)
    extract(text)          -> model.Document   (policykg.extract)
    to_graph(document)     -> rdflib.Graph     (policykg.emit)
"""

__version__ = "0.1.0"
