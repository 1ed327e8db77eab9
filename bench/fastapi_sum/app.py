"""The Sum endpoint on the stack tollgate replaces: FastAPI + PyJWT.

The baseline of bench/sum_bench.sh (issue 4), not a product. It does what
SumService.Sum does behind the AuthInterceptor, the way a FastAPI service
would: POST /sum with JSON {"a": int, "b": int}, an `Authorization: Bearer`
HS256 access token checked by PyJWT (signature, iss, aud, exp with leeway,
iat), role "user", int64 overflow refused.

    JWT_SECRET_KEY=... python3 -m uvicorn --app-dir bench/fastapi_sum app:app \
        --host 127.0.0.1 --port 8000 --workers 1

Environment: JWT_SECRET_KEY (required), TOKEN_ISSUER and TOKEN_AUDIENCE
(default "tollgate"), TOKEN_LEEWAY (seconds, default 30), as for tollgate.
"""

import os

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel

SECRET = os.environ["JWT_SECRET_KEY"]
ISSUER = os.environ.get("TOKEN_ISSUER", "tollgate")
AUDIENCE = os.environ.get("TOKEN_AUDIENCE", "tollgate")
LEEWAY = int(os.environ.get("TOKEN_LEEWAY", "30"))
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

app = FastAPI()


class SumRequest(BaseModel):
    a: int
    b: int


class SumResponse(BaseModel):
    result: int


def _unauthenticated(description: str) -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=description,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'
        },
    )


async def require_user(authorization: str | None = Header(default=None)) -> dict:
    if authorization is None:
        raise _unauthenticated("authorization header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("invalid authorization format")
    try:
        # algorithms is fixed by the server, never taken from the token header.
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthenticated("token expired")
    except jwt.InvalidTokenError as error:
        raise _unauthenticated(f"invalid token: {type(error).__name__}")
    roles = claims.get("roles")
    if not isinstance(roles, list) or "user" not in roles:
        raise HTTPException(status_code=403, detail="requires role 'user'")
    return claims


@app.post("/sum", response_model=SumResponse)
async def sum_(request: SumRequest, claims: dict = Depends(require_user)) -> SumResponse:
    for value in (request.a, request.b):
        if not INT64_MIN <= value <= INT64_MAX:
            raise HTTPException(status_code=400, detail="a and b must fit in int64")
    result = request.a + request.b
    if not INT64_MIN <= result <= INT64_MAX:
        raise HTTPException(status_code=400, detail="the sum does not fit in int64")
    return SumResponse(result=result)
