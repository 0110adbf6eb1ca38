"""sharepack.service"""
