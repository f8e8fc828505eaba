"""credit-etl: the public credit information pipeline.

Runtime pins are exact so that a fresh machine builds the same environment; ``constraints.txt``
pins the whole transitive closure (``make lock`` regenerates it).
"""

from setuptools import find_packages, setup

RUNTIME = [
    "pyyaml==6.0.4",
    "pydantic==2.14.4",
    "numpy==2.4.6",
    "pandas==3.1.1",
    "pyarrow==26.0.1",
    "duckdb==2.0.1",
    "sqlalchemy==2.1.9",
    "great-expectations==1.24.1",
    "openpyxl==3.1.5",
    "chinesecalendar==1.11.0",
    "charset-normalizer==3.5.3",
    "paramiko==5.1.0",
    "jinja2==3.1.6",
]

EXTRAS = {
    "postgres": ["psycopg[binary]==3.3.9"],
    "mysql": ["pymysql==1.2.4"],
    "airflow": [
        "apache-airflow==3.3.2",
        "apache-airflow-providers-smtp==3.2.0",
        "apache-airflow-providers-dingding==3.10.1",
        "apache-airflow-providers-sftp==7.0.0",
    ],
    "test": [
        "pytest==9.2.0",
        "pytest-timeout==2.4.0",
        "hypothesis==6.170.17",
        "python-stdnum==2.2",
        "holidays==0.109",
        "aiosmtpd==1.4.6",
        "websockets==17.4",
        "ruff==0.17.6",
    ],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="credit-etl",
    version="0.1.0",
    description="Aggregates public credit information from city departments into a warehouse",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["etl", "etl.*"]),
    include_package_data=True,
    install_requires=RUNTIME,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["credit-etl = etl.cli:main"]},
)
