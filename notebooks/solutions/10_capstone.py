# The reference solution is a folder, solutions/10_capstone/, with the same files as yours (app.py,
# static/index.html). Loading this cell points the grader at it instead of your copy in capstone/.
SERVICE = "solutions/10_capstone"
