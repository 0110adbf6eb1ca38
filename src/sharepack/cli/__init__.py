"""sharepack.cli"""
