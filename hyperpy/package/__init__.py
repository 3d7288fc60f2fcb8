"""Package format shared by build and node: project config, manifest, metadata, names, zips."""
