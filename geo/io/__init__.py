"""All file and network I/O of the project (like pvlib's ``iotools``).

Readers check their input and raise :class:`geo.errors.InputError` naming the file and the
problem; writers write atomically. Computation modules never open files themselves.
"""
