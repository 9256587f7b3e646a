/** The /quiz page: one exercise on the program in its URL (see quiz.js). */
import { mountQuizzes } from "./quiz.js";

mountQuizzes();
