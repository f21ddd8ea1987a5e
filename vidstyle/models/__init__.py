"""Network families and TransformerNet, model files, the style catalog, importers and the model I/O
contract (layer 1)."""
