"""sharepack.workspace"""
