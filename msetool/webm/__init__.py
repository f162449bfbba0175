"""WebM byte stream format: EBML reader, element tree, segment model and the MSE segment parser."""
