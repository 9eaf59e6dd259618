from sympy import divisors
sum(divisors(2024))
