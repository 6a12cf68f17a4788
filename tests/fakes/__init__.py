"""The stand-ins and servers the tests start: fake Alternator nodes, proxies, S3, streams."""
