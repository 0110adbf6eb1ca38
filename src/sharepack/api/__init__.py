"""sharepack.api"""
