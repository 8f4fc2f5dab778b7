"""HTTP <-> domain: read the caller and the parsed input, call one service, shape the answer."""
