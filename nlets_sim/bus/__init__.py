"""The bus: the switch's and the LESC's link to an MQTT broker (aiomqtt; Mosquitto by default).

``address`` reads a broker URL and its credentials, ``events`` holds the event values and the
topic tree, ``publisher`` carries events to the broker without ever holding up its caller,
``broker`` starts a local Mosquitto. Nothing here imports the switch or the LESC.
"""
