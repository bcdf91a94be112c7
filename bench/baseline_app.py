"""The baselines Samverka is measured against, served with the same gunicorn settings.

GET /  -> hello world. POST /insert -> one row inserted into the same database, nothing else.
"""

import os

from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
metadata = MetaData()
rows = Table(
    "bench_baseline", metadata, Column("id", Integer, primary_key=True), Column("body", String(200))
)
metadata.create_all(engine)
if engine.dialect.name == "sqlite":
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, world!"


@app.post("/insert")
def insert_row():
    with engine.begin() as connection:
        connection.execute(insert(rows).values(body="x" * 100))
    return "", 201
