#!/usr/bin/env python3
"""The module's frontend part in a running OBS, through obs-websocket and
the X display:

    obs-frontend.py list WEBSOCKET_PORT
        the hotkeys zego_room.start and zego_room.stop are listed
    obs-frontend.py keys WEBSOCKET_PORT SERVER_PORT START_KEY STOP_KEY
        the keys (X keysym names, F9) pressed on the display (XTest)
        publish and stop, as the room server's /metrics shows
    obs-frontend.py trigger WEBSOCKET_PORT SERVER_PORT
        TriggerHotkeyByName zego_room.start publishes
    obs-frontend.py profiles WEBSOCKET_PORT ROOM_ID
        a new profile's output has the defaults, not the room ROOM_ID of the
        profile before, and switching back brings ROOM_ID back

Every wait has a timeout."""
import ctypes
import importlib.util
import os
import sys
import time

spec = importlib.util.spec_from_file_location(
    "obs_websocket_output", os.path.join(os.path.dirname(__file__), "obs-websocket-output.py"))
wso = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wso)
log = wso.log

NAMES = ("zego_room.start", "zego_room.stop")


class Keyboard:
    """Key presses on $DISPLAY through the XTest extension (as Xvfb has)."""

    def __init__(self):
        self.x11 = ctypes.CDLL("libX11.so.6")
        self.xtst = ctypes.CDLL("libXtst.so.6")
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XStringToKeysym.restype = ctypes.c_ulong
        self.x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
        self.x11.XKeysymToKeycode.restype = ctypes.c_ubyte
        self.x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                                ctypes.c_ulong]
        self.dpy = self.x11.XOpenDisplay(None)
        if not self.dpy:
            raise OSError("no X display")

    def set(self, key, down):
        code = self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(key.encode()))
        if not code:
            raise OSError("no keycode for %s" % key)
        self.xtst.XTestFakeKeyEvent(self.dpy, code, 1 if down else 0, 0)
        self.x11.XFlush(self.dpy)


def press_until(kb, key, server_port, want):
    """Presses the key until the server has want publishers, at most 20 s.
    OBS polls the keyboard, and ignores a hotkey of a pair while it still
    sees the other one held: a press it missed is made again (starting and
    stopping twice do nothing more)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        kb.set(key, True)
        try:
            if wso.wait_publishers(server_port, want, 2):
                return True
        finally:
            kb.set(key, False)
        if wso.wait_publishers(server_port, want, 0.5):
            return True
    return False


def room_of_output(ws):
    status = wso.request(ws, "GetOutputSettings", {"outputName": "zego-room"})
    return status["data"].get("outputSettings", {}).get("room_id", "")


def wait_room(ws, want_same, room, seconds=20):
    """Until the output's room is (want_same) or is not room."""
    deadline = time.monotonic() + seconds
    while True:
        got = room_of_output(ws)
        if (got == room) == want_same:
            return True
        if time.monotonic() > deadline:
            log("the output's room is %r" % got)
            return False
        time.sleep(0.25)


def profiles(ws_port, room):
    ws = wso.connect(ws_port)
    if not ws:
        return 1
    if not wait_room(ws, True, room):
        return 1
    status = wso.request(ws, "CreateProfile", {"profileName": "Second"})
    if not status.get("result"):
        log("CreateProfile refused: %r" % status)
        return 1
    if not wait_room(ws, False, room):
        log("the new profile kept the room of the one before")
        return 1
    status = wso.request(ws, "SetCurrentProfile", {"profileName": "Untitled"})
    if not status.get("result"):
        log("SetCurrentProfile refused: %r" % status)
        return 1
    if not wait_room(ws, True, room):
        log("switching back did not bring the room back")
        return 1
    return 0


def main():
    mode, ws_port = sys.argv[1], int(sys.argv[2])
    if mode == "list":
        ws = wso.connect(ws_port)
        if not ws:
            return 1
        status = wso.request(ws, "GetHotkeyList", {})
        listed = status["data"].get("hotkeys", [])
        missing = [n for n in NAMES if n not in listed]
        if missing:
            log("not in GetHotkeyList: %s" % ", ".join(missing))
            return 1
        return 0
    if mode == "profiles":
        return profiles(ws_port, sys.argv[3])
    server_port = int(sys.argv[3])
    if mode == "keys":
        start_key, stop_key = sys.argv[4], sys.argv[5]
        kb = Keyboard()
        if not press_until(kb, start_key, server_port, 1):
            log("no publisher on the room server after pressing %s" % start_key)
            return 1
        if not press_until(kb, stop_key, server_port, 0):
            log("the publisher stayed after pressing %s" % stop_key)
            return 1
        return 0
    # TriggerHotkeyByName presses and never releases: libobs then ignores
    # the other hotkey of the pair, so StopOutput stops.
    ws = wso.connect(ws_port)
    if not ws:
        return 1
    status = wso.request(ws, "TriggerHotkeyByName", {"hotkeyName": NAMES[0]})
    if not status.get("result"):
        log("TriggerHotkeyByName %s refused: %r" % (NAMES[0], status))
        return 1
    if not wso.wait_publishers(server_port, 1, 20):
        log("no publisher on the room server after %s" % NAMES[0])
        return 1
    status = wso.request(ws, "StopOutput", {"outputName": "zego-room"})
    if not status.get("result") or not wso.wait_publishers(server_port, 0, 20):
        log("StopOutput did not stop: %r" % status)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError) as e:
        log("obs-hotkeys: %s" % e)
        sys.exit(1)
