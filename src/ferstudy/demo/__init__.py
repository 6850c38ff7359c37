"""Demo datasets: real faces animated into expression clips, written in the native layouts of
CK+, MMI, MUG and Oulu-CASIA so that the real registration adapters read them unchanged."""
