"""Two user classes sharing a window by Locust's weight, and one with a fixed count."""

from __future__ import annotations

from locust import FastHttpUser, constant, task


class Browser(FastHttpUser):
    weight = 3
    wait_time = constant(0.01)

    @task(3)
    def items(self):
        self.client.get("/items", name="items")

    @task(1)
    def item(self):
        self.client.get("/items/1", name="item")


class Payer(FastHttpUser):
    weight = 1
    fixed_count = 1
    wait_time = constant(0.01)

    @task
    def pay(self):
        self.client.post("/pay", name="pay")
