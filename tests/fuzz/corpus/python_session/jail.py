import os, socket
try:
    socket.socket()
except OSError as e:
    print(e)
os.listdir("/")
