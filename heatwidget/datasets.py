"""Synthetic demo data, made on the spot (no downloads).

:func:`cities` draws points clustered around about 190 real city centres, so a heatmap of
them looks like the world's urban areas at every zoom.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["CITIES", "cities"]

# (name, lat, lon, metro population in millions, roughly). Coordinates are city centres to
# about 0.1 degree; the populations only set the cluster sizes.
CITIES: tuple[tuple[str, float, float, float], ...] = (
    # East Asia
    ("Tokyo", 35.68, 139.69, 37.0),
    ("Osaka", 34.69, 135.50, 19.0),
    ("Nagoya", 35.18, 136.91, 9.5),
    ("Fukuoka", 33.59, 130.40, 5.5),
    ("Sapporo", 43.06, 141.35, 2.6),
    ("Seoul", 37.57, 126.98, 25.5),
    ("Busan", 35.18, 129.08, 3.4),
    ("Pyongyang", 39.04, 125.76, 3.0),
    ("Beijing", 39.90, 116.41, 21.5),
    ("Shanghai", 31.23, 121.47, 28.0),
    ("Guangzhou", 23.13, 113.26, 19.0),
    ("Shenzhen", 22.54, 114.06, 17.5),
    ("Hong Kong", 22.32, 114.17, 7.5),
    ("Chongqing", 29.56, 106.55, 16.0),
    ("Chengdu", 30.66, 104.07, 16.0),
    ("Tianjin", 39.13, 117.20, 13.5),
    ("Wuhan", 30.59, 114.31, 11.0),
    ("Xi'an", 34.34, 108.94, 9.0),
    ("Hangzhou", 30.27, 120.16, 10.0),
    ("Nanjing", 32.06, 118.80, 9.0),
    ("Shenyang", 41.81, 123.43, 7.5),
    ("Harbin", 45.80, 126.53, 6.0),
    ("Kunming", 25.04, 102.71, 5.0),
    ("Taipei", 25.03, 121.57, 7.0),
    ("Ulaanbaatar", 47.89, 106.91, 1.6),
    # South-east Asia and Oceania
    ("Manila", 14.60, 120.98, 24.0),
    ("Jakarta", -6.21, 106.85, 33.0),
    ("Surabaya", -7.25, 112.75, 6.5),
    ("Bangkok", 13.76, 100.50, 17.0),
    ("Ho Chi Minh City", 10.82, 106.63, 13.0),
    ("Hanoi", 21.03, 105.85, 8.0),
    ("Kuala Lumpur", 3.14, 101.69, 8.5),
    ("Singapore", 1.35, 103.82, 6.0),
    ("Yangon", 16.87, 96.20, 5.5),
    ("Phnom Penh", 11.56, 104.92, 2.3),
    ("Sydney", -33.87, 151.21, 5.3),
    ("Melbourne", -37.81, 144.96, 5.1),
    ("Brisbane", -27.47, 153.03, 2.6),
    ("Perth", -31.95, 115.86, 2.2),
    ("Adelaide", -34.93, 138.60, 1.4),
    ("Auckland", -36.85, 174.76, 1.7),
    ("Wellington", -41.29, 174.78, 0.4),
    # South Asia
    ("Delhi", 28.61, 77.21, 33.0),
    ("Mumbai", 19.08, 72.88, 25.0),
    ("Kolkata", 22.57, 88.36, 15.5),
    ("Bengaluru", 12.97, 77.59, 13.5),
    ("Chennai", 13.08, 80.27, 12.0),
    ("Hyderabad", 17.39, 78.49, 11.0),
    ("Ahmedabad", 23.02, 72.57, 8.5),
    ("Pune", 18.52, 73.86, 7.0),
    ("Jaipur", 26.91, 75.79, 4.0),
    ("Lucknow", 26.85, 80.95, 4.0),
    ("Karachi", 24.86, 67.01, 17.0),
    ("Lahore", 31.55, 74.34, 13.5),
    ("Islamabad", 33.68, 73.05, 2.5),
    ("Dhaka", 23.81, 90.41, 23.0),
    ("Chittagong", 22.36, 91.78, 5.5),
    ("Kathmandu", 27.72, 85.32, 1.5),
    ("Colombo", 6.93, 79.86, 2.3),
    ("Kabul", 34.56, 69.21, 4.5),
    # Middle East and Central Asia
    ("Tehran", 35.69, 51.39, 9.5),
    ("Mashhad", 36.30, 59.61, 3.3),
    ("Baghdad", 33.31, 44.37, 7.5),
    ("Riyadh", 24.71, 46.68, 7.7),
    ("Jeddah", 21.49, 39.19, 4.8),
    ("Dubai", 25.20, 55.27, 3.5),
    ("Doha", 25.29, 51.53, 1.5),
    ("Kuwait City", 29.38, 47.98, 3.1),
    ("Amman", 31.95, 35.93, 2.2),
    ("Beirut", 33.89, 35.50, 2.4),
    ("Damascus", 33.51, 36.29, 2.5),
    ("Jerusalem", 31.77, 35.21, 1.0),
    ("Tel Aviv", 32.09, 34.78, 4.2),
    ("Istanbul", 41.01, 28.98, 15.8),
    ("Ankara", 39.93, 32.86, 5.3),
    ("Izmir", 38.42, 27.14, 3.1),
    ("Tashkent", 41.30, 69.24, 2.9),
    ("Almaty", 43.24, 76.89, 2.0),
    ("Baku", 40.41, 49.87, 2.4),
    ("Tbilisi", 41.72, 44.79, 1.2),
    # Europe
    ("London", 51.51, -0.13, 14.5),
    ("Paris", 48.86, 2.35, 11.2),
    ("Madrid", 40.42, -3.70, 6.8),
    ("Barcelona", 41.39, 2.17, 5.6),
    ("Lisbon", 38.72, -9.14, 2.9),
    ("Porto", 41.15, -8.61, 1.7),
    ("Rome", 41.90, 12.50, 4.3),
    ("Milan", 45.46, 9.19, 4.3),
    ("Naples", 40.85, 14.27, 3.1),
    ("Berlin", 52.52, 13.40, 4.7),
    ("Hamburg", 53.55, 9.99, 2.6),
    ("Munich", 48.14, 11.58, 2.9),
    ("Ruhr (Essen)", 51.46, 7.01, 5.1),
    ("Frankfurt", 50.11, 8.68, 2.3),
    ("Amsterdam", 52.37, 4.90, 2.5),
    ("Rotterdam", 51.92, 4.48, 1.8),
    ("Brussels", 50.85, 4.35, 2.1),
    ("Zurich", 47.38, 8.54, 1.4),
    ("Vienna", 48.21, 16.37, 2.9),
    ("Prague", 50.08, 14.44, 2.7),
    ("Warsaw", 52.23, 21.01, 3.1),
    ("Budapest", 47.50, 19.04, 3.0),
    ("Bucharest", 44.43, 26.10, 2.3),
    ("Athens", 37.98, 23.73, 3.6),
    ("Stockholm", 59.33, 18.07, 2.4),
    ("Copenhagen", 55.68, 12.57, 2.1),
    ("Oslo", 59.91, 10.75, 1.6),
    ("Helsinki", 60.17, 24.94, 1.5),
    ("Dublin", 53.35, -6.26, 2.0),
    ("Manchester", 53.48, -2.24, 2.8),
    ("Birmingham", 52.49, -1.89, 2.9),
    ("Glasgow", 55.86, -4.25, 1.8),
    ("Moscow", 55.76, 37.62, 17.0),
    ("Saint Petersburg", 59.94, 30.32, 5.5),
    ("Kyiv", 50.45, 30.52, 3.5),
    ("Minsk", 53.90, 27.56, 2.0),
    ("Novosibirsk", 55.03, 82.92, 1.6),
    ("Yekaterinburg", 56.84, 60.61, 1.5),
    ("Reykjavik", 64.15, -21.94, 0.24),
    # Africa
    ("Cairo", 30.04, 31.24, 22.0),
    ("Alexandria", 31.20, 29.92, 5.5),
    ("Lagos", 6.52, 3.38, 16.0),
    ("Abuja", 9.08, 7.40, 3.8),
    ("Kano", 12.00, 8.52, 4.2),
    ("Kinshasa", -4.44, 15.27, 17.0),
    ("Luanda", -8.84, 13.23, 9.0),
    ("Johannesburg", -26.20, 28.05, 10.0),
    ("Cape Town", -33.92, 18.42, 4.8),
    ("Durban", -29.86, 31.02, 3.2),
    ("Nairobi", -1.29, 36.82, 5.3),
    ("Addis Ababa", 9.03, 38.74, 5.5),
    ("Dar es Salaam", -6.79, 39.21, 7.5),
    ("Khartoum", 15.50, 32.56, 6.3),
    ("Casablanca", 33.57, -7.59, 4.3),
    ("Algiers", 36.75, 3.06, 3.0),
    ("Tunis", 36.81, 10.18, 2.5),
    ("Accra", 5.60, -0.19, 2.7),
    ("Abidjan", 5.36, -4.01, 5.7),
    ("Dakar", 14.72, -17.47, 3.4),
    ("Kampala", 0.35, 32.58, 3.8),
    ("Antananarivo", -18.88, 47.51, 3.9),
    # North America
    ("New York", 40.71, -74.01, 19.5),
    ("Los Angeles", 34.05, -118.24, 12.8),
    ("Chicago", 41.88, -87.63, 9.4),
    ("Houston", 29.76, -95.37, 7.3),
    ("Dallas", 32.78, -96.80, 7.9),
    ("Washington", 38.91, -77.04, 6.3),
    ("Philadelphia", 39.95, -75.17, 6.2),
    ("Miami", 25.76, -80.19, 6.1),
    ("Atlanta", 33.75, -84.39, 6.2),
    ("Boston", 42.36, -71.06, 4.9),
    ("Phoenix", 33.45, -112.07, 5.0),
    ("San Francisco", 37.77, -122.42, 4.6),
    ("Seattle", 47.61, -122.33, 4.0),
    ("Detroit", 42.33, -83.05, 4.3),
    ("Minneapolis", 44.98, -93.27, 3.7),
    ("Denver", 39.74, -104.99, 3.0),
    ("San Diego", 32.72, -117.16, 3.3),
    ("Las Vegas", 36.17, -115.14, 2.3),
    ("Honolulu", 21.31, -157.86, 1.0),
    ("Anchorage", 61.22, -149.90, 0.4),
    ("Toronto", 43.65, -79.38, 6.7),
    ("Montreal", 45.50, -73.57, 4.3),
    ("Vancouver", 49.28, -123.12, 2.6),
    ("Calgary", 51.05, -114.07, 1.5),
    ("Mexico City", 19.43, -99.13, 22.0),
    ("Guadalajara", 20.67, -103.35, 5.3),
    ("Monterrey", 25.69, -100.32, 5.3),
    ("Havana", 23.11, -82.37, 2.1),
    ("Santo Domingo", 18.49, -69.93, 3.5),
    ("Guatemala City", 14.63, -90.51, 3.0),
    ("Panama City", 8.98, -79.52, 1.9),
    # South America
    ("São Paulo", -23.55, -46.63, 22.5),
    ("Rio de Janeiro", -22.91, -43.17, 13.5),
    ("Belo Horizonte", -19.92, -43.94, 6.0),
    ("Brasília", -15.79, -47.88, 4.8),
    ("Salvador", -12.97, -38.50, 3.9),
    ("Fortaleza", -3.73, -38.53, 4.1),
    ("Recife", -8.05, -34.88, 4.1),
    ("Porto Alegre", -30.03, -51.23, 4.3),
    ("Manaus", -3.12, -60.02, 2.3),
    ("Buenos Aires", -34.60, -58.38, 15.5),
    ("Córdoba", -31.42, -64.18, 1.6),
    ("Santiago", -33.45, -70.67, 7.0),
    ("Lima", -12.05, -77.04, 11.0),
    ("Bogotá", 4.71, -74.07, 11.5),
    ("Medellín", 6.24, -75.58, 4.1),
    ("Caracas", 10.48, -66.90, 2.9),
    ("Quito", -0.18, -78.47, 2.0),
    ("Guayaquil", -2.17, -79.92, 3.1),
    ("La Paz", -16.50, -68.15, 1.9),
    ("Montevideo", -34.90, -56.16, 1.8),
    ("Asunción", -25.26, -57.58, 2.3),
)

_KM_PER_DEGREE = 111.32


def cities(n: int = 100_000, seed: int = 0) -> Any:
    """``n`` points clustered around real cities: columns ``lat``, ``lon``, ``mag``.

    Each point picks a city with probability proportional to its population, then lies at a
    Gaussian offset from its centre (sigma 5–40 km, larger for larger cities; 1 point in 20
    is "suburban", three times as spread). ``mag`` is a positive weight (float32, mean about
    1, skewed: a few large values). Deterministic for a given ``seed``. Returns a pandas
    DataFrame, or a dict of numpy arrays when pandas is not installed.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    table = np.array([c[1:] for c in CITIES], dtype=np.float64)
    lat0, lon0, pop = table[:, 0], table[:, 1], table[:, 2]
    sigma_km = np.clip(4.0 + 6.0 * np.sqrt(pop), 5.0, 40.0)
    # Per-city spreads in degrees, so the per-point work is gathers and multiply-adds.
    sigma_lat = sigma_km / _KM_PER_DEGREE
    sigma_lon = sigma_lat / np.cos(np.radians(lat0))

    city = rng.choice(len(CITIES), size=n, p=pop / pop.sum())
    suburb = np.where(rng.random(n, dtype=np.float32) < 0.05, 3.0, 1.0)
    lat = lat0[city] + rng.standard_normal(n, dtype=np.float32) * (sigma_lat[city] * suburb)
    lon = lon0[city] + rng.standard_normal(n, dtype=np.float32) * (sigma_lon[city] * suburb)
    if n and (lon.min() < -180.0 or lon.max() >= 180.0):
        lon = (lon + 180.0) % 360.0 - 180.0
    mag = np.exp(rng.standard_normal(n, dtype=np.float32) * np.float32(0.5) - np.float32(0.125))

    columns = {"lat": lat, "lon": lon, "mag": mag}
    try:
        import pandas as pd
    except ImportError:
        return columns
    return pd.DataFrame(columns, copy=False)
