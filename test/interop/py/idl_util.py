"""What the Python IDL helpers of the tests share."""
import time

import ovs.poller


def run_until(idl, done, limit_s=10.0):
    """Runs the IDL until done() is true or limit_s seconds pass; returns whether done() became true."""
    deadline = time.time() + limit_s
    while time.time() < deadline:
        idl.run()
        if done():
            return True
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(100)
        poller.block()
    return False
