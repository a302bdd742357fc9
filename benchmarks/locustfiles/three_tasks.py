"""Three weighted tasks with no think time: the user class of the load-generator benchmark
(its open loop picks one task per arrival; its closed loop runs as fast as it goes)."""

from __future__ import annotations

from locust import FastHttpUser, constant, task


class ThreeTasks(FastHttpUser):
    wait_time = constant(0)

    @task(5)
    def browse(self):
        self.client.get("/", name="browse")

    @task(3)
    def search(self):
        self.client.get("/?q=x", name="search")

    @task(1)
    def checkout(self):
        self.client.get("/?cart=1", name="checkout")
