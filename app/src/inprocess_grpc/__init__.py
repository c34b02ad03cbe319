"""A traced in-process user lookup, exported to Jaeger over OTLP/gRPC.

A Python re-creation of GoFrame's "in-process tracing with the gRPC exporter" example.
"""
