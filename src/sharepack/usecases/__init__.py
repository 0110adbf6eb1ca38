"""The use cases the front ends call: submit a pack, plan or apply a file, read status
and history."""
