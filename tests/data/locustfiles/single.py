"""One user class only."""

from __future__ import annotations

from locust import FastHttpUser, constant, task


class Only(FastHttpUser):
    wait_time = constant(0.01)

    @task
    def index(self):
        self.client.get("/", name="index")
