"""SD: the class-conditional clip GAN. ``stage`` (the train_gan / generate_clips stages) drives
``data`` (the fold's training subjects), ``models``, ``trainer``, ``quality``, ``figures`` and
``generate`` (sampling synthetic clip stores)."""
