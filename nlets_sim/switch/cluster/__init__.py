"""Switch nodes: several switches, each serving some lines, that forward to each other through
the broker. ``plan`` reads the cluster file, ``forwards`` is the pure bookkeeping of numbered,
journaled, acknowledged forwards, ``link`` carries them over MQTT."""
