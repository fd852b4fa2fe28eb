# Portcullis production image: hypercorn serving the app as a non-root user.
# Configure with PORTCULLIS_* variables; mount /var/lib/portcullis for the secret key.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORTCULLIS_HOST=0.0.0.0 \
    PORTCULLIS_PORT=8080 \
    PORTCULLIS_SECRET_KEY_FILE=/var/lib/portcullis/secret.key \
    PORTCULLIS_DATABASE_URL=sqlite:///var/lib/portcullis/portcullis.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY idp ./idp
COPY protocols ./protocols
COPY admin_ui ./admin_ui
COPY themes ./themes
# Editable, so that themes/ beside the packages is found where the code expects it.
RUN pip install --no-cache-dir -e . \
 && useradd --system --home-dir /var/lib/portcullis --create-home portcullis

USER portcullis
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health/ready', timeout=2)"
CMD ["portcullis", "serve"]
